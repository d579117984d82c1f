"""celab's top floor, above both labs: experiment files, output folders (locks, saving, resume),
reports, plots and the named studies (``celab reproduce``)."""
