/*
 * SPDX-FileCopyrightText: 2020 Stalwart Labs Ltd <hello@stalw.art>
 *
 * SPDX-License-Identifier: AGPL-3.0-only OR LicenseRef-SEL
 */

pub mod action_convert;
pub mod action_editheader;
pub mod action_fileinto;
pub mod action_flags;
pub mod action_include;
pub mod action_keep;
pub mod action_mime;
pub mod action_notify;
pub mod action_redirect;
pub mod action_reject;
pub mod action_require;
pub mod action_set;
pub mod action_vacation;
