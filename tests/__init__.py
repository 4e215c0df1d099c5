"""Tests of the landing-page generator."""
