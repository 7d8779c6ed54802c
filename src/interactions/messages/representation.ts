// The representation chooser (acting for an organisation or a child): its words in Vietnamese and English.

export const REPRESENTATION_MESSAGES = {
  'rep.title': { vi: 'Chọn bên bạn đại diện', en: 'Choose whom you act for' },
  'rep.lead': {
    vi: '{client} yêu cầu bạn đăng nhập thay mặt một tổ chức hoặc một trẻ em dưới 14 tuổi mà bạn đại diện.',
    en: '{client} asks you to sign in on behalf of an organisation or a child under 14 whom you represent.',
  },
  'rep.roles': { vi: 'Quyền được yêu cầu', en: 'Roles asked for' },
  'rep.legend': { vi: 'Bạn thay mặt', en: 'You act for' },
  'rep.organisation': { vi: 'mã số doanh nghiệp {code}', en: 'enterprise code {code}' },
  'rep.legal_representative': { vi: 'người đại diện theo pháp luật ({title})', en: 'legal representative ({title})' },
  'rep.authorised': { vi: 'được ủy quyền', en: 'authorised' },
  'rep.child': { vi: 'sinh ngày {date}', en: 'born {date}' },
  'rep.relation.father': { vi: 'bạn là cha', en: 'you are the father' },
  'rep.relation.mother': { vi: 'bạn là mẹ', en: 'you are the mother' },
  'rep.relation.guardian': { vi: 'bạn là người giám hộ', en: 'you are the guardian' },
  'rep.shared_organisation': {
    vi: 'Với một tổ chức, dịch vụ nhận tên và mã số doanh nghiệp của tổ chức cùng các quyền được yêu cầu.',
    en: 'For an organisation, the service receives its name and enterprise code and the roles asked for.',
  },
  'rep.shared_child': { vi: 'Với một trẻ em, dịch vụ nhận họ tên và ngày sinh của trẻ.', en: "For a child, the service receives the child's full name and date of birth." },
  'rep.shared_child_id': {
    vi: 'Với một trẻ em, dịch vụ nhận họ tên, ngày sinh và số định danh cá nhân của trẻ.',
    en: "For a child, the service receives the child's full name, date of birth and personal identification number.",
  },
  'rep.not_self': {
    vi: 'Dịch vụ đã yêu cầu đăng nhập thay mặt người khác, nên không thể tiếp tục với tư cách cá nhân. Nếu bạn muốn dùng dịch vụ cho chính mình, hãy hủy và chọn cách đăng nhập cá nhân trên trang của dịch vụ.',
    en: 'The service asked for a sign-in on behalf of someone else, so you cannot continue as yourself. To use the service for yourself, cancel and choose the personal sign-in on the service’s page.',
  },
  'rep.continue': { vi: 'Tiếp tục', en: 'Continue' },
  'rep.cancel': { vi: 'Hủy và quay lại dịch vụ', en: 'Cancel and go back to the service' },
  'rep.choose': { vi: 'Hãy chọn một bên bạn đại diện.', en: 'Choose one party you act for.' },
  'rep.no_longer': {
    vi: 'Bạn không còn được đại diện cho bên đã chọn với các quyền được yêu cầu. Hãy chọn lại.',
    en: 'You may no longer act for the party you chose with the roles asked for. Choose again.',
  },
  'rep.none_title': { vi: 'Bạn không đại diện cho ai', en: 'You do not represent anyone' },
  'rep.none_lead': {
    vi: '{client} yêu cầu đăng nhập thay mặt một tổ chức hoặc một trẻ em dưới 14 tuổi, nhưng theo cơ sở dữ liệu quốc gia về đăng ký doanh nghiệp và về dân cư, bạn không đại diện cho tổ chức hay trẻ em nào với các quyền được yêu cầu.',
    en: '{client} asked for a sign-in on behalf of an organisation or a child under 14, but according to the national business register and the population registry you represent no organisation or child with the roles asked for.',
  },
  'rep.none_level': {
    vi: 'Chỉ tài khoản định danh điện tử mức 2 mới được đại diện cho tổ chức hoặc trẻ em. Tài khoản của bạn là tài khoản mức 1.',
    en: 'Only a level-2 electronic identity account may act for an organisation or a child. Your account is level 1.',
  },
  'rep.none_how': {
    vi: 'Người đại diện theo pháp luật của tổ chức có thể ủy quyền cho bạn trên trang tài khoản của họ.',
    en: "An organisation's legal representative can authorise you on their account page.",
  },
  'rep.none_back': { vi: 'Quay lại dịch vụ', en: 'Go back to the service' },
  'rep.record': { vi: 'Đăng nhập vào {client} thay mặt {party}.', en: 'Signed in to {client} acting for {party}.' },
  'role.tax': { vi: 'thuế', en: 'tax' },
  'role.social_insurance': { vi: 'bảo hiểm xã hội', en: 'social insurance' },
  'role.customs': { vi: 'hải quan', en: 'customs' },
  'role.business_registration': { vi: 'đăng ký kinh doanh', en: 'business registration' },
  'role.all': { vi: 'mọi quyền', en: 'every role' },
} as const;
