"""MCCFR training and exact evaluation on compiled games."""
