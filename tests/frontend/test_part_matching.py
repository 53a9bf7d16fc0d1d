"""Hands and faces go to the nearest free person, never to one beyond reach."""

from __future__ import annotations

import numpy as np

from pymafx_ros.frontend.part_matching import match_by_distance


def test_each_candidate_goes_to_its_nearest_anchor():
    anchors = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]])
    candidates = np.array([[195.0, 5.0], [3.0, 0.0]])
    assert match_by_distance(anchors, candidates, np.array([20.0, 20.0])) == {2: 0, 0: 1}


def test_the_total_distance_decides_a_contested_candidate():
    # greedy would give candidate 0 to anchor 0 and leave anchor 1 without any
    anchors = np.array([[0.0, 0.0], [10.0, 0.0]])
    candidates = np.array([[6.0, 0.0], [-6.0, 0.0]])
    assert match_by_distance(anchors, candidates, np.array([8.0, 8.0])) == {1: 0, 0: 1}


def test_candidates_out_of_reach_stay_unmatched():
    anchors = np.array([[0.0, 0.0]])
    candidates = np.array([[50.0, 0.0]])
    assert match_by_distance(anchors, candidates, np.array([49.0])) == {}
    assert match_by_distance(anchors, candidates, np.array([50.0])) == {0: 0}


def test_empty_inputs():
    assert match_by_distance(np.zeros((0, 2)), np.ones((3, 2)), np.ones(3)) == {}
    assert match_by_distance(np.ones((2, 2)), np.zeros((0, 2)), np.zeros(0)) == {}
