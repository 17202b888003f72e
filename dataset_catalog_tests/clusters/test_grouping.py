"""Clusters from links: strongest first, bounded, never grown through one weak link."""

from dataset_catalog.clusters import grouping
from dataset_catalog.clusters.grouping import Link, group


def test_every_row_gets_a_cluster_named_by_its_smallest_id():
    result = group([1, 2, 3, 4, 5], [Link(4, 2, 0.99), Link(2, 5, 0.97)])
    assert result.cluster_of == {1: 1, 2: 2, 3: 3, 4: 2, 5: 2}
    assert result.refused == []


def test_two_groups_join_only_through_a_strong_link():
    # {1, 2} (MNIST on two sites) and {3, 4} (Fashion-MNIST on two sites), one weak link between
    weak = Link(2, 3, 0.91)
    result = group([1, 2, 3, 4], [Link(1, 2, 0.99), Link(3, 4, 0.99), weak])
    assert result.cluster_of == {1: 1, 2: 1, 3: 3, 4: 3} and result.refused == [weak]
    assert group([1, 2, 3, 4], [Link(1, 2, 0.99), Link(3, 4, 0.99), Link(2, 3, 0.99)]).cluster_of[4] == 1


def test_a_cluster_never_grows_past_its_bound(monkeypatch):
    monkeypatch.setattr(grouping, "MAX_CLUSTER_SIZE", 3)
    chain = [Link(i, i + 1, 0.99) for i in range(1, 6)]
    result = group(range(1, 7), chain)
    assert max(list(result.cluster_of.values()).count(c) for c in set(result.cluster_of.values())) == 3
    assert len(result.refused) >= 1


def test_the_same_links_in_any_order_give_the_same_clusters():
    links = [Link(1, 2, 0.95), Link(2, 3, 0.99), Link(5, 4, 0.92), Link(3, 6, 0.95)]
    assert group(range(1, 7), links).cluster_of == group(range(1, 7), list(reversed(links))).cluster_of


def test_rows_kept_apart_never_share_a_cluster_however_links_chain():
    # 2 ("Wine Quality") links to both 1 ("Wine Quality red") and 3 ("Wine Quality white"); 1 and 3
    # were found to be different data, so 3 stays out of the cluster 1 and 2 formed.
    links = [Link(1, 2, 0.96), Link(2, 3, 0.95)]
    assert group([1, 2, 3], links).cluster_of[3] == 1  # without the pair kept apart it chains
    result = group([1, 2, 3], links, apart=[(1, 3)])
    assert result.cluster_of == {1: 1, 2: 1, 3: 3} and result.refused == [Link(2, 3, 0.95)]
