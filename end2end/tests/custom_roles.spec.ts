import { test, expect, signIn, loginFor } from './fixtures';

// The hospital tier has custom roles. A shifa admin makes a role of exactly two
// permissions, gives it to a new user, cannot delete it while it is held, and
// the user signs in and sees what those two permissions allow, nothing more.
// Finally the admin disables the user.
test('a shifa admin creates a custom role, gives it to a new user, and that user sees only what it allows', async ({
  page,
}) => {
  // Several password hashes and two admin sign-ins (TOTP) on a slow machine.
  test.setTimeout(120_000);
  const clinic = loginFor('shifa', 'admin').clinic_code;
  const stamp = Date.now();
  const roleName = `Ward clerk ${stamp}`;
  const username = `clerk${stamp}`;
  const newPassword = 'amber-falcon-Lahore-2026-indus';
  const nav = page.getByRole('navigation', { name: 'Main' });
  const adminNav = page.getByRole('navigation', { name: 'Admin' });

  // 1. The admin creates the role.
  await signIn(page, 'shifa', 'admin');
  await nav.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await page.waitForLoadState('networkidle');
  await adminNav.getByRole('link', { name: 'Roles', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/roles$/);
  await expect(page.getByRole('heading', { name: 'Roles', level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');
  await expect(page.getByText('Custom roles are part of the hospital plan')).toHaveCount(0);

  const roleForm = page.getByRole('form', { name: 'New custom role' });
  await roleForm.getByLabel('Role name').fill(roleName);
  await roleForm.getByRole('checkbox', { name: 'Read patient demographics', exact: true }).check();
  await roleForm.getByRole('checkbox', { name: 'Read lab results', exact: true }).check();
  await roleForm.getByRole('button', { name: 'Save role' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Role “${roleName}” saved.` })).toBeVisible();

  const rolesTable = page.getByRole('table', { name: 'Roles', exact: true });
  const roleRow = rolesTable.getByRole('row').filter({ hasText: roleName });
  await expect(roleRow).toHaveCount(1);
  await expect(roleRow).toContainText('Custom');
  await expect(roleRow).toContainText('Nobody');

  // The matrix has a column for the role with exactly the two marks.
  const matrix = page.getByRole('table', { name: 'Permissions of each role' });
  await expect(matrix.getByRole('columnheader', { name: roleName, exact: true })).toBeVisible();
  const headers = await matrix.locator('thead th').allTextContents();
  const column = headers.indexOf(roleName) + 1; // nth-child is 1-based; the row header is child 1
  expect(column).toBeGreaterThan(1);
  const marked = matrix
    .locator('tbody tr')
    .filter({ has: page.locator(`td:nth-child(${column}) [role="img"][aria-label="allowed"]`) });
  await expect(marked.locator('.perm-name')).toHaveText(['patients.read', 'lab.results.read']);
  await expect(matrix.locator(`tbody td:nth-child(${column}) [role="img"]`)).toHaveCount(2);

  // 2. A new user with only that role.
  await adminNav.getByRole('link', { name: 'Users', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');
  const userForm = page.getByRole('form', { name: 'New user' });
  await userForm.getByLabel('Username').fill(username);
  await userForm.getByLabel('Full name').fill('Nadia Qureshi');
  await userForm.getByRole('checkbox', { name: roleName, exact: true }).check();
  await userForm.getByRole('button', { name: 'Create user' }).click();
  const oneTime = page.getByLabel(`One-time password for ${username}`);
  await expect(oneTime).toBeVisible();
  const temporary = await oneTime.inputValue();
  expect(temporary.length).toBeGreaterThanOrEqual(12);
  const userRow = page.getByRole('table', { name: 'Users' }).getByRole('row').filter({ hasText: username });
  await expect(userRow).toHaveCount(1);
  await expect(userRow.getByRole('cell').nth(1)).toHaveText(roleName); // Roles: that role alone
  await expect(userRow).toContainText('never (must change password)');

  // The role is held now: deleting it is refused, naming the holder.
  await adminNav.getByRole('link', { name: 'Roles', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/roles$/);
  await page.waitForLoadState('networkidle');
  await expect(roleRow).toContainText(username);
  await roleRow.getByRole('button', { name: `Delete role ${roleName}`, exact: true }).click();
  await roleRow
    .getByRole('group', { name: `Delete role ${roleName}`, exact: true })
    .getByRole('button', { name: 'Yes, delete' })
    .click();
  await expect(
    page.getByRole('alert').filter({
      hasText: `The role “${roleName}” is held by ${username}; take it away from them first.`,
    }),
  ).toBeVisible();
  // Still there, still held.
  await expect(roleRow).toHaveCount(1);
  await expect(roleRow).toContainText(username);
  await expect(matrix.getByRole('columnheader', { name: roleName, exact: true })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.waitForLoadState('networkidle');

  // 3. The new user: one-time password, forced change, then a navigation
  // that follows the two permissions.
  await page.getByLabel('Clinic code').fill(clinic);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(temporary);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/account\/password$/);
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Current password').fill(temporary);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('New password again').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page).toHaveURL(/\/patients$/);
  await page.waitForLoadState('networkidle');

  await expect(nav.getByRole('link', { name: 'Patients', exact: true })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Lab', exact: true })).toBeVisible();
  await expect(nav.getByRole('link')).toHaveCount(2);
  await expect(nav.getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Prescribe' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Pharmacy' })).toHaveCount(0);

  await nav.getByRole('link', { name: 'Lab', exact: true }).click();
  await expect(page).toHaveURL(/\/section\/lab$/);
  await expect(page.getByRole('heading', { name: 'Lab', level: 1 })).toBeVisible();
  await expect(page.getByText('Lab arrives in a later release of Healipro')).toBeVisible();

  // The role does not reach the admin console.
  await page.goto('/admin/roles');
  await expect(page.getByRole('alert').filter({ hasText: 'Your role does not allow this' })).toBeVisible();
  await expect(page.getByText(roleName)).toHaveCount(0);

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);

  // 4. Back as the admin: disable the user, with its confirmation step.
  await signIn(page, 'shifa', 'admin');
  await nav.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await page.waitForLoadState('networkidle');
  await expect(userRow.getByRole('cell').nth(2)).toHaveText('Yes');
  // They have signed in and changed the one-time password.
  await expect(userRow).not.toContainText('never');
  await expect(userRow).not.toContainText('must change password');
  await userRow.getByRole('button', { name: `Disable ${username}`, exact: true }).click();
  const confirm = userRow.getByRole('group', { name: `Disable ${username}`, exact: true });
  await expect(confirm).toContainText(`Disable ${username}? Their sessions end at once`);
  await confirm.getByRole('button', { name: 'Yes, disable' }).click();
  await expect(page.getByText(`${username} is disabled; their sessions have ended.`)).toBeVisible();
  await expect(userRow.getByRole('cell').nth(2)).toHaveText('Disabled');
  await expect(userRow.getByRole('button', { name: `Enable ${username}`, exact: true })).toBeVisible();
  await expect(userRow.getByRole('button', { name: `Disable ${username}`, exact: true })).toHaveCount(0);
});
