// Signs out without a second click when the service proved who is signing out (see pages.ts).
const button = document.querySelector('button[data-autosubmit]');
if (button) button.click();
