"""Test helpers: real server processes, test databases, a signed-in web user, a fake clock."""
