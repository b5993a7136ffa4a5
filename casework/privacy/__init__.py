"""What leaves, what is erased, what is kept: masking, retention."""
