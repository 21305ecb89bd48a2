"""The `crossdock` command line: the top layer, which may import every package below it.

    main.py     the commands (init, demo, generate, run, summary, quarantine, docs, dashboard)
    console.py  a run's console: one line per step, bars on a terminal, the full log in a file
    summary.py  what the published tables hold, read after a run and by `crossdock summary`
    summary_lines.py  the summary's words: its figures as the lines a planner reads

The core (crossdock/), the domains and the Dagster wiring never import it
(.importlinter); `python -m cli` is the same as the `crossdock` command.
"""
