// The current administrative units (34 provinces since 1 July 2025, Resolution 202/2025), which
// addresses name, kept apart from the 63 historical codes that prefix ID numbers (national-id.ts).

export interface CurrentProvince {
  /** The two-digit code the province kept from one predecessor. */
  readonly code: string;
  /** The name an address carries: "Thành phố Hà Nội", "Tỉnh Ninh Bình". */
  readonly name: string;
  /** The ID-number prefixes (pre-2025 provinces) whose territory it now covers. */
  readonly predecessors: readonly string[];
  /** A sample of its communes and wards, for synthetic addresses (not the full list). */
  readonly localities: readonly string[];
}

export const CURRENT_PROVINCES: readonly CurrentProvince[] = [
  { code: '01', name: 'Thành phố Hà Nội', predecessors: ['001'], localities: ['Phường Ba Đình', 'Phường Hoàn Kiếm', 'Phường Cửa Nam', 'Phường Hai Bà Trưng', 'Phường Đống Đa', 'Phường Cầu Giấy', 'Phường Tây Hồ', 'Phường Long Biên', 'Phường Hà Đông', 'Phường Thanh Xuân', 'Phường Hoàng Mai', 'Xã Sóc Sơn', 'Xã Đông Anh', 'Xã Gia Lâm', 'Xã Thường Tín'] },
  { code: '04', name: 'Tỉnh Cao Bằng', predecessors: ['004'], localities: ['Phường Thục Phán', 'Phường Nùng Trí Cao', 'Phường Tân Giang', 'Xã Hòa An', 'Xã Trùng Khánh', 'Xã Bảo Lạc'] },
  { code: '08', name: 'Tỉnh Tuyên Quang', predecessors: ['008', '002'], localities: ['Phường Minh Xuân', 'Phường Mỹ Lâm', 'Phường Hà Giang 1', 'Phường Hà Giang 2', 'Xã Yên Sơn', 'Xã Đồng Văn', 'Xã Chiêm Hóa'] },
  { code: '11', name: 'Tỉnh Điện Biên', predecessors: ['011'], localities: ['Phường Điện Biên Phủ', 'Phường Mường Thanh', 'Phường Mường Lay', 'Xã Tuần Giáo', 'Xã Mường Chà'] },
  { code: '12', name: 'Tỉnh Lai Châu', predecessors: ['012'], localities: ['Phường Tân Phong', 'Phường Đoàn Kết', 'Xã Tam Đường', 'Xã Sìn Hồ', 'Xã Than Uyên'] },
  { code: '14', name: 'Tỉnh Sơn La', predecessors: ['014'], localities: ['Phường Tô Hiệu', 'Phường Chiềng An', 'Phường Mộc Châu', 'Xã Mai Sơn', 'Xã Thuận Châu'] },
  { code: '15', name: 'Tỉnh Lào Cai', predecessors: ['015', '010'], localities: ['Phường Lào Cai', 'Phường Cam Đường', 'Phường Yên Bái', 'Phường Văn Phú', 'Phường Sa Pa', 'Xã Bảo Thắng', 'Xã Văn Chấn'] },
  { code: '19', name: 'Tỉnh Thái Nguyên', predecessors: ['019', '006'], localities: ['Phường Phan Đình Phùng', 'Phường Gia Sàng', 'Phường Đức Xuân', 'Phường Sông Công', 'Xã Đại Từ', 'Xã Phú Bình'] },
  { code: '20', name: 'Tỉnh Lạng Sơn', predecessors: ['020'], localities: ['Phường Lương Văn Tri', 'Phường Tam Thanh', 'Phường Đông Kinh', 'Xã Cao Lộc', 'Xã Hữu Lũng'] },
  { code: '22', name: 'Tỉnh Quảng Ninh', predecessors: ['022'], localities: ['Phường Hạ Long', 'Phường Hồng Gai', 'Phường Bãi Cháy', 'Phường Cẩm Phả', 'Phường Uông Bí', 'Phường Móng Cái 1', 'Xã Vân Đồn'] },
  { code: '24', name: 'Tỉnh Bắc Ninh', predecessors: ['024', '027'], localities: ['Phường Kinh Bắc', 'Phường Võ Cường', 'Phường Bắc Giang', 'Phường Đa Mai', 'Phường Từ Sơn', 'Xã Lạng Giang', 'Xã Yên Thế'] },
  { code: '25', name: 'Tỉnh Phú Thọ', predecessors: ['025', '026', '017'], localities: ['Phường Việt Trì', 'Phường Nông Trang', 'Phường Vĩnh Phúc', 'Phường Vĩnh Yên', 'Phường Hòa Bình', 'Phường Phúc Yên', 'Xã Lâm Thao'] },
  { code: '31', name: 'Thành phố Hải Phòng', predecessors: ['031', '030'], localities: ['Phường Hồng Bàng', 'Phường Ngô Quyền', 'Phường Lê Chân', 'Phường Hải An', 'Phường Kiến An', 'Phường Hải Dương', 'Phường Thành Đông', 'Xã An Lão', 'Xã Kim Thành'] },
  { code: '33', name: 'Tỉnh Hưng Yên', predecessors: ['033', '034'], localities: ['Phường Phố Hiến', 'Phường Sơn Nam', 'Phường Thái Bình', 'Phường Trần Lãm', 'Phường Mỹ Hào', 'Xã Khoái Châu', 'Xã Tiền Hải'] },
  { code: '37', name: 'Tỉnh Ninh Bình', predecessors: ['037', '035', '036'], localities: ['Phường Hoa Lư', 'Phường Tam Điệp', 'Phường Nam Định', 'Phường Thiên Trường', 'Phường Phủ Lý', 'Phường Duy Tiên', 'Xã Hải Hậu', 'Xã Kim Sơn'] },
  { code: '38', name: 'Tỉnh Thanh Hóa', predecessors: ['038'], localities: ['Phường Hạc Thành', 'Phường Quảng Phú', 'Phường Sầm Sơn', 'Phường Bỉm Sơn', 'Xã Thọ Xuân', 'Xã Hoằng Hóa'] },
  { code: '40', name: 'Tỉnh Nghệ An', predecessors: ['040'], localities: ['Phường Thành Vinh', 'Phường Trường Vinh', 'Phường Vinh Hưng', 'Phường Cửa Lò', 'Phường Hoàng Mai', 'Xã Diễn Châu', 'Xã Nghi Lộc'] },
  { code: '42', name: 'Tỉnh Hà Tĩnh', predecessors: ['042'], localities: ['Phường Thành Sen', 'Phường Trần Phú', 'Phường Hồng Lĩnh', 'Phường Sông Trí', 'Xã Can Lộc', 'Xã Hương Khê'] },
  { code: '44', name: 'Tỉnh Quảng Trị', predecessors: ['044', '045'], localities: ['Phường Đồng Hới', 'Phường Đồng Thuận', 'Phường Đông Hà', 'Phường Nam Đông Hà', 'Phường Quảng Trị', 'Xã Lệ Thủy', 'Xã Vĩnh Linh'] },
  { code: '46', name: 'Thành phố Huế', predecessors: ['046'], localities: ['Phường Thuận Hóa', 'Phường Phú Xuân', 'Phường Kim Long', 'Phường Vỹ Dạ', 'Phường Hương Thủy', 'Phường Hương Trà', 'Xã Phú Vang'] },
  { code: '48', name: 'Thành phố Đà Nẵng', predecessors: ['048', '049'], localities: ['Phường Hải Châu', 'Phường Thanh Khê', 'Phường Sơn Trà', 'Phường Ngũ Hành Sơn', 'Phường Cẩm Lệ', 'Phường Hội An', 'Phường Tam Kỳ', 'Phường Điện Bàn', 'Xã Hòa Vang'] },
  { code: '51', name: 'Tỉnh Quảng Ngãi', predecessors: ['051', '062'], localities: ['Phường Cẩm Thành', 'Phường Nghĩa Lộ', 'Phường Đức Phổ', 'Phường Kon Tum', 'Phường Đăk Bla', 'Xã Bình Sơn', 'Xã Sơn Tịnh'] },
  { code: '52', name: 'Tỉnh Gia Lai', predecessors: ['052', '064'], localities: ['Phường Quy Nhơn', 'Phường Quy Nhơn Bắc', 'Phường Pleiku', 'Phường Diên Hồng', 'Phường An Khê', 'Phường Hoài Nhơn', 'Xã Tây Sơn'] },
  { code: '56', name: 'Tỉnh Khánh Hòa', predecessors: ['056', '058'], localities: ['Phường Nha Trang', 'Phường Bắc Nha Trang', 'Phường Cam Ranh', 'Phường Ninh Hòa', 'Phường Phan Rang', 'Phường Đô Vinh', 'Xã Diên Khánh'] },
  { code: '66', name: 'Tỉnh Đắk Lắk', predecessors: ['066', '054'], localities: ['Phường Buôn Ma Thuột', 'Phường Tân An', 'Phường Ea Kao', 'Phường Tuy Hòa', 'Phường Phú Yên', 'Phường Buôn Hồ', 'Xã Krông Pắc'] },
  { code: '68', name: 'Tỉnh Lâm Đồng', predecessors: ['068', '067', '060'], localities: ['Phường Xuân Hương – Đà Lạt', 'Phường Lâm Viên – Đà Lạt', 'Phường Bảo Lộc 1', 'Phường Phan Thiết', 'Phường Mũi Né', 'Phường Bắc Gia Nghĩa', 'Xã Đức Trọng'] },
  { code: '75', name: 'Tỉnh Đồng Nai', predecessors: ['075', '070'], localities: ['Phường Trấn Biên', 'Phường Biên Hòa', 'Phường Long Khánh', 'Phường Bình Phước', 'Phường Đồng Xoài', 'Xã Long Thành', 'Xã Nhơn Trạch'] },
  { code: '79', name: 'Thành phố Hồ Chí Minh', predecessors: ['079', '074', '077'], localities: ['Phường Sài Gòn', 'Phường Bến Thành', 'Phường Tân Định', 'Phường Chợ Lớn', 'Phường Bình Thạnh', 'Phường Gò Vấp', 'Phường Thủ Đức', 'Phường Tân Bình', 'Phường Thủ Dầu Một', 'Phường Dĩ An', 'Phường Vũng Tàu', 'Phường Bà Rịa', 'Xã Củ Chi', 'Xã Bình Chánh', 'Xã Cần Giờ'] },
  { code: '80', name: 'Tỉnh Tây Ninh', predecessors: ['080', '072'], localities: ['Phường Tân Ninh', 'Phường Long An', 'Phường Tân An', 'Phường Trảng Bàng', 'Xã Bến Lức', 'Xã Đức Hòa'] },
  { code: '82', name: 'Tỉnh Đồng Tháp', predecessors: ['082', '087'], localities: ['Phường Mỹ Tho', 'Phường Đạo Thạnh', 'Phường Cao Lãnh', 'Phường Sa Đéc', 'Phường Gò Công', 'Xã Cái Bè', 'Xã Tháp Mười'] },
  { code: '86', name: 'Tỉnh Vĩnh Long', predecessors: ['086', '083', '084'], localities: ['Phường Thanh Đức', 'Phường Long Châu', 'Phường Bến Tre', 'Phường An Hội', 'Phường Trà Vinh', 'Phường Nguyệt Hóa', 'Xã Mỏ Cày'] },
  { code: '91', name: 'Tỉnh An Giang', predecessors: ['091', '089'], localities: ['Phường Rạch Giá', 'Phường Vĩnh Thông', 'Phường Long Xuyên', 'Phường Châu Đốc', 'Phường Hà Tiên', 'Xã Châu Thành'] },
  { code: '92', name: 'Thành phố Cần Thơ', predecessors: ['092', '093', '094'], localities: ['Phường Ninh Kiều', 'Phường Cái Khế', 'Phường Bình Thủy', 'Phường Cái Răng', 'Phường Sóc Trăng', 'Phường Phú Lợi', 'Phường Vị Thanh', 'Xã Phong Điền'] },
  { code: '96', name: 'Tỉnh Cà Mau', predecessors: ['096', '095'], localities: ['Phường An Xuyên', 'Phường Tân Thành', 'Phường Lý Văn Lâm', 'Phường Bạc Liêu', 'Phường Vĩnh Trạch', 'Xã Năm Căn', 'Xã U Minh'] },
];

const BY_NAME: ReadonlyMap<string, CurrentProvince> = new Map(CURRENT_PROVINCES.map((province) => [province.name, province]));
const BY_PREFIX: ReadonlyMap<string, CurrentProvince> = new Map(
  CURRENT_PROVINCES.flatMap((province) => province.predecessors.map((prefix) => [prefix, province] as const)),
);

/** The province an address names, by its full current name; undefined for a pre-2025 or unknown name. */
export function currentProvinceNamed(name: string): CurrentProvince | undefined {
  return BY_NAME.get(name);
}

/** The current province that covers the territory of a pre-2025 province (an ID-number prefix). */
export function currentProvinceOfPrefix(prefix: string): CurrentProvince | undefined {
  return BY_PREFIX.get(prefix);
}
