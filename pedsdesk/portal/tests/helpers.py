from urllib.parse import urlsplit


def path_of(url: str) -> str:
    """The path of an absolute family-link URL, for the test client."""
    return urlsplit(url).path
