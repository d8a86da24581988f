"""The composition root: builds the services the functions share from one Settings object.

It sits at the edge, beside function_app.py: the core (`remediation/`) imports neither this
package nor `bot/`, so the CLI and the tests compose the same parts their own way.
"""
