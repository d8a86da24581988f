"""Remediation core: from Azure health signals to incidents, safe fixes and Teams cards.

The package knows nothing of the Azure Functions runtime, so the CLI, the local host and the
tests run exactly the code that Azure runs.
"""

__version__ = "0.1.0"
