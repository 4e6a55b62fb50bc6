"""The HTTP service: Flask app factory, blueprints, auth, problem documents, OpenAPI.

`create_app(config)` builds an app; `aiguillage serve` runs it under gunicorn.
"""

from aiguillage.api.app import create_app

__all__ = ["create_app"]
