"""The mapping alone: HTML to text, sizes, kernel-3 records, version merging (no server, no database)."""

from lxml import etree

from dataset_catalog.zenodo.mapping import html_to_text, map_record, merge_work, parse_size, plain, work_row

KERNEL3 = b"""<record xmlns="http://www.openarchives.org/OAI/2.0/"><header><identifier>oai:zenodo.org:77</identifier>
<datestamp>2014-02-03T04:05:06Z</datestamp></header><metadata><oai_datacite xmlns="http://schema.datacite.org/oai/oai-1.0/">
<payload><resource xmlns="http://datacite.org/schema/kernel-3"><identifier identifierType="DOI">10.5281/zenodo.77</identifier>
<titles><title>Old &lt;em&gt;record&lt;/em&gt;</title></titles><publicationYear>2014</publicationYear>
<rightsList><rights rightsURI="https://example.org/terms">Custom research licence</rights></rightsList>
</resource></payload></oai_datacite></metadata></record>"""


def test_html_to_text_keeps_prose_and_drops_everything_that_renders():
    assert html_to_text("<p>a</p><p>b<br>c</p>") == "a\n\nb\n\nc"
    assert html_to_text("x <scr<b>ipt>alert(1)</script> y") == "x alert(1) y"  # re-assembled tags go too
    assert html_to_text("&lt;script&gt;bad()&lt;/script&gt; ok") == "bad() ok"
    assert html_to_text("   ") is None and html_to_text(None) is None
    assert plain("a_b_c <i>x</i>") == "a_b_c x"  # no markdown rules: underscores are text


def test_sizes_parse_units():
    assert [parse_size(s) for s in ("12", "1 kB", "2 MiB", "3.5 GB", "1,024 bytes", "huge")] == [
        12,
        1000,
        2 * 2**20,
        3_500_000_000,
        1024,
        None,
    ]


def test_kernel3_record_without_versioning_is_its_own_concept():
    version = map_record(etree.fromstring(KERNEL3))
    assert (version["recid"], version["concept_recid"], version["concept_doi"]) == (77, 77, "10.5281/zenodo.77")
    assert version["title"] == "Old record" and version["publication_date"] == "2014-01-01"
    assert version["license"] == "Custom research licence"  # no SPDX id to normalise to: the label is kept
    assert version["url"] == "https://zenodo.org/records/77"


def test_merge_is_order_independent_and_idempotent():
    v = [
        dict(map_record(etree.fromstring(KERNEL3)), recid=r, concept_recid=1, datestamp=f"2024-01-0{r}T00:00:00+00:00")
        for r in (2, 3, 4)
    ]
    forwards = merge_work(merge_work(None, v[:2]), v[2:])
    backwards = merge_work(merge_work(None, v[2:]), v[:2])
    assert forwards == backwards and forwards["version_count"] == 3 and forwards["latest_recid"] == 4
    assert merge_work(forwards, v) == forwards
    assert work_row(forwards)["sync_hash"] == work_row(merge_work(forwards, v[:1]))["sync_hash"]


def test_an_organizational_creator_stays_an_organization_in_the_row_and_its_citation():
    with_creators = KERNEL3.replace(
        b"<titles>",
        b'<creators><creator><creatorName nameType="Organizational">CERN</creatorName></creator>'
        b'<creator><creatorName nameType="Personal">Doe, Jane</creatorName></creator></creators><titles>',
    )
    row = work_row(merge_work(None, [map_record(etree.fromstring(with_creators))]))
    assert row["creators"] == [{"name": "CERN", "kind": "organization"}, {"name": "Doe, Jane", "kind": "person"}]
    assert row["citation"] == "CERN; Doe, Jane (2014). Old record. Zenodo. https://doi.org/10.5281/zenodo.77"
    assert (row["load_code"], row["load_language"]) == ("https://doi.org/10.5281/zenodo.77", "url")
