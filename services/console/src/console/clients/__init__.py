"""HTTP clients of the four services, called with the signed-in person's own token."""
