"""madoguchi (窓口): one platform on which every public body in Japan runs its procedures online."""

__version__ = "0.1.0"
