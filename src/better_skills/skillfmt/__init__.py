"""The skill folder format, one rule in one place: paths, frontmatter, mentions, hashes and the
rules a skill must pass. Imported by the CLI, the sync engine and the server.

Pure: standard library and PyYAML (imported on first use), ``skills-ref`` only inside
:func:`better_skills.skillfmt.rules.check_folder`. Import the submodules directly, e.g.
``from better_skills.skillfmt.paths import check_path``.
"""
