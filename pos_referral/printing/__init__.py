"""Receipt printing: templates -> document -> ESC/POS bytes, plain text or a PNG preview; printers.

The print queue lives in the service layer (``services/print_jobs.py`` enqueues and reprints,
``services/print_worker.py`` prints) and reaches this package through ``render`` (render,
render_footer), ``printers`` (make_printer) and ``status`` (PrinterStatus);
``markup.validate_all_templates`` checks every template at start-up. Nothing here does I/O at
import time.
"""
