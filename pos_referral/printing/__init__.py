"""Receipt printing: templates -> document -> ESC/POS bytes, plain text or a PNG preview; printers; the queue.

The web and service layers use ``queue`` (enqueue, reprint, PrintWorker, render_footer), ``printers``
(make_printer, PrinterStatus) and ``markup.validate_all_templates`` at start-up. Nothing here does I/O
at import time.
"""
