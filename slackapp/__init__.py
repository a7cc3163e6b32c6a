"""The Slack front-end: ``/animate``, the "Animate this image" message shortcut, restart-proof
buttons, ``/animate jobs``, and the Slack ``DeliveryPort``, over Bolt's ``AsyncApp`` in Socket Mode.

Named ``slackapp`` (never ``slack``) so it cannot shadow the ``slack`` module of older Slack
libraries. It imports ``core`` and the Slack libraries only; ``bot/`` hands it everything it uses
(the facade, tokens, the Web API base URL, an aiohttp session) and registers its port in the
engine's router. Facts it relies on: ``shared/reference/slack-platform.md`` (cited as §n).
"""
