"""`python -m dealscope ...`, the same as the `dealscope` command."""

from dealscope.cli import app

app(prog_name="dealscope")
