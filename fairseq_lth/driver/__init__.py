"""The IMP driver ``fairseq-lth-imp`` (:mod:`fairseq_lth.driver.imp`) and what only it uses: it runs each
lottery unit as a fairseq-train child, scores it, and computes masks in its own process. It may import
the plugin (checkpoint loading, the tasks' defaults); the plugin never imports it.
"""
