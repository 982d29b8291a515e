"""The console's pages: sign-in, the member's (phone), the secretary's (desk), the public letter check."""
