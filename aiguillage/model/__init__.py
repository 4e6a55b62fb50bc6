"""The EN 16931 semantic invoice and its readers and writers (UBL 2.1, CII D16B, Factur-X, JSON)."""
