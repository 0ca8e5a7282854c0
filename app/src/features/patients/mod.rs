pub mod api;
pub mod dto;
pub mod pages;
