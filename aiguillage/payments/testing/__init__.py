"""Test helpers for payments: statement file writers and a loopback PSP that speaks Stripe's protocol."""
