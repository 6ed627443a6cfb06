"""promo."""
