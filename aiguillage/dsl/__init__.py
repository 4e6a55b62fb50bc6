"""The rules language: Lark grammar, parser, AST, checker, formatter."""
