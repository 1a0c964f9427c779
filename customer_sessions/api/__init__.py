"""The DRF endpoint that hands a signed-in user a fresh Customer Session."""
