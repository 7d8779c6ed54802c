// Passkeys with WebAuthn, for forms marked data-passkey="create" (enrolment) or "get" (sign-in): the
// server's options come in data-passkey-options (JSON, binary fields base64url), the browser's
// authenticator answers, and the answer goes back in the form's hidden "credential" field as JSON.
// Nothing else on the page needs JavaScript.

function fromBase64url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const withBinaryIds = (descriptors) => (descriptors || []).map((descriptor) => ({ ...descriptor, id: fromBase64url(descriptor.id) }));

function creationOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: withBinaryIds(json.excludeCredentials),
  };
}

function requestOptions(json) {
  return { ...json, challenge: fromBase64url(json.challenge), allowCredentials: withBinaryIds(json.allowCredentials) };
}

function registrationJson(credential) {
  const response = credential.response;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      attestationObject: toBase64url(response.attestationObject),
      transports: typeof response.getTransports === 'function' ? response.getTransports() : [],
    },
  };
}

function assertionJson(credential) {
  const response = credential.response;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined,
    },
  };
}

for (const form of document.querySelectorAll('form[data-passkey]')) {
  const mode = form.dataset.passkey;
  const error = form.querySelector('[data-passkey-error]');
  const button = form.querySelector('button[type=submit]');
  const showError = (text) => {
    if (!error) return;
    error.textContent = text;
    error.hidden = false;
  };
  const noScriptNote = form.querySelector('[data-passkey-nojs]');
  if (noScriptNote) noScriptNote.hidden = true;
  if (typeof PublicKeyCredential === 'undefined' || !navigator.credentials) {
    showError(form.dataset.passkeyUnsupported || '');
    if (button) button.disabled = true;
    continue;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (button) button.disabled = true;
    try {
      const options = JSON.parse(form.dataset.passkeyOptions);
      const credential =
        mode === 'create'
          ? await navigator.credentials.create({ publicKey: creationOptions(options) })
          : await navigator.credentials.get({ publicKey: requestOptions(options) });
      if (!credential) throw new Error('no credential');
      form.querySelector('input[name=credential]').value = JSON.stringify(mode === 'create' ? registrationJson(credential) : assertionJson(credential));
      form.submit();
    } catch {
      showError(form.dataset.passkeyFailed || '');
      if (button) {
        button.disabled = false;
        button.focus();
      }
    }
  });
}
