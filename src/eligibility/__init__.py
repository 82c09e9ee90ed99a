"""eligibility: rules-as-code eligibility decisions with auditable traces."""
__version__ = "0.1.0"
