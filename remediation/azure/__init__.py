"""Azure access: msal credential, lazily built ARM clients, retries and the write budget.

Importing this package imports no azure-mgmt SDK and not msal; they load on first use.
"""

from remediation.azure.clients import ArmClients, RetrySettings
from remediation.azure.throttle import WriteBudget, WriteBudgetExceeded

__all__ = ["ArmClients", "RetrySettings", "WriteBudget", "WriteBudgetExceeded"]
