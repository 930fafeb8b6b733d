"""The canonical transcript and the formats rendered from it."""
