"""The engine runtime: one pass (``Engine``), delivery through the router, and the ``Worker``
that owns the loop. Front-ends never import it; ``bot.builder`` assembles it."""
