"""Thin Azure Functions triggers, one blueprint per source; the logic lives in `remediation`."""
