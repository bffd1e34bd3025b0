"""The Streamlit dashboard: a client of the API only (run with `dealscope dashboard`)."""

from pathlib import Path

APP_PATH = Path(__file__).with_name("app.py")
