"""The web console: server-rendered pages for HR and participants, served by the API at ``/``.

Pages are Jinja2 templates, enhanced by htmx (vendored, see ``static/vendor/fetch.sh``); they
sign in by a session cookie (`mentorflow.console.sessions`) and act through the API's own
access rules and change path. `mentorflow.console.app.install_console` adds the routes, the
static files and the error pages to the API app; `mentorflow.console.paths.is_console_path`
tells the API's bearer-token layer which paths are the console's.
"""
