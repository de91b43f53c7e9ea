"""mkba: municipal business cases (MKBA) for re-integration of long-term bijstand recipients.

Kept light on import: heavy modules (pandas, matplotlib, nbformat) load when used.
"""
__version__ = "0.1.0"
