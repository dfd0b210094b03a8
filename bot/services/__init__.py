"""Services: one module per question or side effect, plain functions over a session returning plain data."""
