"""The Microsoft 365 Agents Playground against the local host (`serve --simulate --playground`)."""
