"""Fakes of Render's REST API and Railway's GraphQL API, served for real on loopback over HTTPS
behind a CONNECT proxy (tests.apifake.server), answering from JSON files in the documented
shapes (tests/apifake/data, written by `python -m tests.apifake.generate`)."""
