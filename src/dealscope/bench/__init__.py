"""Benchmarks: named, repeatable measurements written as JSON (`dealscope bench ...`)."""
