//! Helpers for the end-to-end tests.
#![allow(dead_code)]

pub mod desktop;
pub mod webdriver;
