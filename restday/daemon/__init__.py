"""The long-running service: wiring, the worker thread, scheduler jobs, watchdog, shutdown."""
