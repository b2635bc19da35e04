"""Known XSS vectors, as Markdown a skill could hold. Each one, if it ran, would set
``window.__xss`` or call ``fetch('/xss-recorder')``; the browser test checks neither happened."""

from __future__ import annotations

MARKDOWN_VECTORS = [
    "<script>window.__xss=1</script>",
    "<SCRIPT SRC=/xss-recorder></SCRIPT>",
    '<img src=x onerror="window.__xss=1">',
    '<svg onload="window.__xss=1"><script>window.__xss=1</script></svg>',
    '<svg><a xlink:href="javascript:window.__xss=1"><text>svg link</text></a></svg>',
    '<iframe src="javascript:window.__xss=1"></iframe>',
    '<a href="javascript:window.__xss=1">raw html link</a>',
    "[md javascript link](javascript:window.__xss=1)",
    "[md JaVaScRiPt link](JaVaScRiPt:window.__xss=1)",
    "[md entity link](&#106;avascript:window.__xss=1)",
    "[md data link](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)",
    "[md vbscript link](vbscript:msgbox(1))",
    '![img onerror](x" onerror="window.__xss=1)',
    "![data image](data:image/svg+xml,<svg onload=window.__xss=1>)",
    '[title break](https://example.com "x\\" onmouseover=\\"window.__xss=1")',
    '<details open ontoggle="window.__xss=1"><summary>x</summary></details>',
    '<form action="javascript:window.__xss=1"><button>go</button></form>',
    "<style>body{background:url(/xss-recorder)}</style>",
    '<object data="javascript:window.__xss=1"></object>',
    '<embed src="/xss-recorder">',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    '<a href="jav&#x09;ascript:window.__xss=1">tab link</a>',
    "```html\n<script>window.__xss=1</script>\n```",
    "`<img src=x onerror=window.__xss=1>`",
]
#: Names, descriptions and file paths that try to break out of an attribute or a tag.
NAME = '"><img src=x onerror=window.__xss=1>'
DESCRIPTION = "</p><script>window.__xss=1</script>'\"><svg onload=window.__xss=1>"
FILE_NAME = 'references/"><img src=x onerror=window.__xss=1>.md'

#: Substrings that must never appear in rendered HTML (lower-cased).
FORBIDDEN = [
    "<script",
    "onerror=",
    "onload=",
    "ontoggle=",
    "onmouseover=",
    "javascript:",
    "vbscript:",
    "data:text/html",
    "<iframe",
    "<object",
    "<embed",
    "<style",
    "<meta",
    "<form",
    "<svg",
    "<img",
]


def hostile_markdown() -> str:
    return "\n\n".join(MARKDOWN_VECTORS) + "\n"
