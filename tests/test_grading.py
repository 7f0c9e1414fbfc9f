"""Tests for bios740.grading: the rule checks of the homework tests."""

import pytest
import torch
import torchvision

from bios740.grading import Switched, Watch


def test_watch_counts_calls_and_fails_calls_into_forbidden_ops():
    boxes = torch.tensor([[0.0, 0, 2, 2], [1, 1, 3, 3]])
    with Watch() as watch:
        (boxes[:, 2:] - boxes[:, :2]).prod(dim=1)
    assert watch.calls >= 3
    with pytest.raises(AssertionError, match="off limits"), Watch(ops=("torchvision",)):
        torchvision.ops.nms(boxes, torch.tensor([0.9, 0.8]), 0.5)
    with pytest.raises(AssertionError, match="off limits here"):
        with Watch(files={torchvision.ops.boxes.__file__}):
            torchvision.ops.box_area(boxes)


def test_watch_fails_too_many_calls():
    with pytest.raises(AssertionError, match="20,000 torch calls"), Watch():
        for _ in range(20_001):
            torch.zeros(1).add(1)


def test_switched_turns_functions_off_and_back_on():
    def area(width, height):
        return width * height

    with Switched(area):
        with pytest.raises(AssertionError, match="was called"):
            area(2, 3)
    assert area(2, 3) == 6
