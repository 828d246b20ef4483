// Users and ACL rules (administrators): list, add and delete both. Nothing secret is shown: users come
// from the API without passwords or key secrets, and a password typed here is sent once and cleared.
import { api, qs } from '../lib/api.js'
import { act, confirmDialog, field, h, panel, table } from '../lib/dom.js'

function select(name, values, selected) {
  return h(
    'select',
    { name },
    values.map((v) => h('option', { value: v, selected: v === selected }, v)),
  )
}

export async function render() {
  // What rules and users may hold, as the broker accepts them (GET /api/v1/acls/vocabulary).
  const vocabulary = api.get('/acls/vocabulary')
  const users = h('div', { 'aria-live': 'polite' })
  const rules = h('div', { 'aria-live': 'polite' })

  async function loadUsers() {
    const { items } = await api.get('/users?limit=1000')
    users.replaceChildren(
      table({
        caption: `${items.length} user${items.length === 1 ? '' : 's'}`,
        empty: 'No users.',
        rowAttrs: (u) => ({ 'data-user': u.name }),
        columns: [
          { label: 'Name', value: (u) => u.name },
          { label: 'Tags', value: (u) => (u.tags.length ? u.tags.join(', ') : 'none') },
          { label: 'Password', value: (u) => (u.hasPassword ? 'set' : '—') },
          { label: 'Access keys', value: (u) => (u.accessKeyIds.length ? u.accessKeyIds.join(', ') : '—') },
          { label: 'Loopback only', value: (u) => (u.loopbackOnly ? 'yes' : 'no') },
          {
            label: 'Actions',
            value: (u) => {
              const button = h('button', { type: 'button', class: 'danger' }, `Delete ${u.name}`)
              button.addEventListener('click', async () => {
                const ok = await confirmDialog({
                  title: `Delete user ${u.name}?`,
                  message: 'The user can no longer log in; its API tokens and sessions end now.',
                  confirmLabel: 'Delete user',
                  typeToConfirm: u.name,
                })
                if (ok && (await act(button, () => api.del(`/users/${api.enc(u.name)}`), `Deleted user ${u.name}.`)))
                  await loadUsers()
              })
              return button
            },
          },
        ],
        rows: items,
      }),
    )
  }

  async function loadRules() {
    const { items } = await api.get('/acls')
    rules.replaceChildren(
      table({
        caption: `${items.length} rule${items.length === 1 ? '' : 's'}`,
        empty: 'No ACL rules: every user may do what the default permission allows.',
        columns: [
          { label: 'Principal', value: (r) => r.principal },
          { label: 'Host', value: (r) => r.host },
          { label: 'Operation', value: (r) => r.operation },
          { label: 'Permission', value: (r) => r.permission },
          { label: 'Resource', value: (r) => `${r.resourceType} ${r.resourceName}` },
          { label: 'Pattern', value: (r) => r.patternType },
          {
            label: 'Actions',
            value: (r) => {
              const button = h('button', { type: 'button', class: 'danger' }, 'Delete rule')
              button.addEventListener('click', async () => {
                const filter = Object.fromEntries(filterFields.map((k) => [k, r[k]]))
                if (await act(button, () => api.del(`/acls${qs(filter)}`), 'Deleted the rule.')) await loadRules()
              })
              return button
            },
          },
        ],
        rows: items,
      }),
    )
  }

  const [{ operations, permissions, resourceTypes, patternTypes, filterFields, userTags }] = await Promise.all([
    vocabulary,
    loadUsers(),
    loadRules(),
  ])
  return h(
    'div',
    {},
    h('h1', {}, 'Users & ACLs'),
    panel('users-title', 'Users', users, userForm(loadUsers, userTags)),
    panel(
      'acls-title',
      'ACL rules',
      rules,
      ruleForm(loadRules, { operations, permissions, resourceTypes, patternTypes }),
    ),
  )
}

function userForm(reload, userTags) {
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' })
  const password = h('input', { type: 'password', name: 'new-password', required: true, autocomplete: 'new-password' })
  const tags = userTags.map((tag) => h('input', { type: 'checkbox', name: 'tags', value: tag }))
  const submit = h('button', { type: 'submit' }, 'Add user')
  const form = h(
    'form',
    { class: 'inline', 'aria-label': 'Add a user' },
    field('Name', name),
    field('Password', password),
    h(
      'fieldset',
      { class: 'tags' },
      h('legend', {}, 'Tags'),
      tags.map((box) => h('label', {}, box, ` ${box.value}`)),
    ),
    submit,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const body = { name: name.value, password: password.value, tags: tags.filter((b) => b.checked).map((b) => b.value) }
    password.value = ''
    if (await act(submit, () => api.post('/users', body), `Added user ${body.name}.`)) {
      name.value = ''
      for (const box of tags) box.checked = false
      await reload()
    }
  })
  return h('div', {}, h('h3', {}, 'Add a user'), form)
}

function ruleForm(reload, { operations, permissions, resourceTypes, patternTypes }) {
  const principal = h('input', { type: 'text', name: 'principal', required: true, placeholder: 'User:alice or User:*' })
  const host = h('input', { type: 'text', name: 'host', value: '*', required: true })
  const operation = select('operation', operations, 'Read')
  const permission = select('permission', permissions, 'Allow')
  const resourceType = select('resourceType', resourceTypes, 'Topic')
  const resourceName = h('input', { type: 'text', name: 'resourceName', required: true })
  const patternType = select('patternType', patternTypes, 'Literal')
  const submit = h('button', { type: 'submit' }, 'Add rule')
  const form = h(
    'form',
    { class: 'inline', 'aria-label': 'Add an ACL rule' },
    field('Principal', principal),
    field('Host', host),
    field('Operation', operation),
    field('Permission', permission),
    field('Resource type', resourceType),
    field('Resource name', resourceName),
    field('Pattern', patternType),
    submit,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const rule = {
      principal: principal.value,
      host: host.value,
      operation: operation.value,
      permission: permission.value,
      resourceType: resourceType.value,
      resourceName: resourceName.value,
      patternType: patternType.value,
    }
    if (await act(submit, () => api.post('/acls', rule), 'Added the rule.')) {
      resourceName.value = ''
      await reload()
    }
  })
  return h('div', {}, h('h3', {}, 'Add a rule'), form)
}
