"""Entry point: ``python app.py`` (also what Hugging Face Spaces runs).

Port: $PORT, else $GRADIO_SERVER_PORT, else 7860. Host: $GRADIO_SERVER_NAME if set, else 0.0.0.0 on a
hosted Space ($SPACE_ID) or in a container that asks for it ($REWARD_DEMO_PUBLIC=1), else 127.0.0.1.
"""
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from reward_demo.services import build_services  # noqa: E402
from reward_demo.ui.app import build_app, launch  # noqa: E402

# the domains' services, configured by the environment (read once), and the tabs laid out around them
demo = build_app(build_services())

if __name__ == "__main__":
    port = int(os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or 7860)
    public = bool(os.environ.get("SPACE_ID") or os.environ.get("REWARD_DEMO_PUBLIC"))
    host = os.environ.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if public else "127.0.0.1")
    launch(demo, server_name=host, server_port=port)
