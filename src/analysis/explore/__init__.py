"""The analysis API notebooks and analysts call: views of the tidy table, tables, chart specs, figures and
drafted sentences. Uses core only."""
