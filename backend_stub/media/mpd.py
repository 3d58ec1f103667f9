"""DASH MPD XML in and out for the steps that edit an MPD, with its namespaces written back
as they came (MPD as the default namespace, xlink and xsi under their usual prefixes)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

MPD_NS = "urn:mpeg:dash:schema:mpd:2011"


def parse_mpd(text: str) -> ET.Element:
    # Without these, ElementTree would write the MPD back with ns0:/ns1: prefixes.
    ET.register_namespace("", MPD_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    return ET.fromstring(text)


def mpd_text(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
