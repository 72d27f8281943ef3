"""OCR for images, photos and scanned PDFs: pre-processing, table grid finding and the OCR engines."""
